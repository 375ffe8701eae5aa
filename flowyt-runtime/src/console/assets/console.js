// The flowyt console's only script: live updates of a run page over server-sent events.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !live.dataset.events || !window.EventSource) {
    return;
  }
  var source = new EventSource(live.dataset.events);
  source.addEventListener("update", function (event) {
    live.innerHTML = event.data;
  });
  source.addEventListener("end", function (event) {
    live.innerHTML = event.data;
    live.dataset.ended = "true";
    source.close();
  });
  source.onerror = function () {
    // The server closes the stream when the run has ended; nothing to retry then.
    if (live.dataset.ended === "true") {
      source.close();
    }
  };
})();
