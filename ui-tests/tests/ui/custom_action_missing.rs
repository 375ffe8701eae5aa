use flowyt_runtime::flow;

fn send_sms() {}

fn main() {
    let _ = flow! {
        actions = [send_sms, send_fax];
        notify: send_sms { to: "${request.qs.to}" } -> fax;
        fax: send_fax {} -> done;
        done: response { data: "${response.data}" };
    };
}
