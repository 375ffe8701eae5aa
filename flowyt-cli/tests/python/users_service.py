"""A users service as in the seed: a tiny HTTP app that registers itself with an Eureka server
through the real py_eureka_client, here flowyt's embedded registry.

    python3 users_service.py EUREKA_URL PORT INSTANCE_NAME

GET /usuarios/<id>  -> {"usuario": {...}, "instancia": INSTANCE_NAME}
GET /_discovered    -> what this process's own Eureka client sees: {"APP": instance count}
SIGTERM             -> unregisters (py_eureka_client's stop: status DOWN, then cancel) and exits
"""

import json
import os
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    import py_eureka_client.eureka_client as eureka_client
except ImportError:
    sys.stderr.write("py_eureka_client is not installed: python3 -m pip install py_eureka_client\n")
    sys.exit(3)

EUREKA, PORT, NAME = sys.argv[1], int(sys.argv[2]), sys.argv[3]

USUARIOS = {
    1: {"id": 1, "nome": "Alice", "grupo": "grupo1"},
    2: {"id": 2, "nome": "Bruno", "grupo": "grupo2"},
}


class Handler(BaseHTTPRequestHandler):
    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/usuarios/"):
            try:
                usuario = USUARIOS.get(int(self.path[len("/usuarios/"):]))
            except ValueError:
                usuario = None
            if usuario is None:
                self.reply(404, {"erro": "usuario nao encontrado", "instancia": NAME})
            else:
                self.reply(200, {"usuario": usuario, "instancia": NAME})
        elif self.path == "/_discovered":
            apps = eureka_client.get_client().applications
            seen = {a.name: len(a.up_instances) for a in (apps.applications if apps else [])}
            self.reply(200, seen)
        else:
            self.reply(404, {"erro": "rota desconhecida"})

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
# As in the seed, plus a short lease so the test does not wait Eureka's default 90 s.
eureka_client.init(eureka_server=EUREKA,
                   app_name="users",
                   instance_port=PORT,
                   instance_ip="127.0.0.1",
                   renewal_interval_in_secs=1,
                   duration_in_secs=3)


def stop(*_):
    eureka_client.stop()
    os._exit(0)


signal.signal(signal.SIGTERM, stop)
server.serve_forever()
