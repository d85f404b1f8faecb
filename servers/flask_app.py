"""Part 8's demo application, written with Flask, served by gunicorn:

    python3 -m gunicorn --workers 4 --chdir servers --bind 127.0.0.1:5000 flask_app:app

stage-check's tests hold it to the same checks as part8-web-framework: what
HTTP requires, and the application's checks, which are written so that a
learner's framework, in any language, can be checked with them. Flask and
gunicorn come from PyPI: `pip install flask gunicorn`.

Why gunicorn: Flask's own development server (Werkzeug's) breaks some of
HTTP's MUSTs, such as a 400 for `Content-Length: -1`, which it routes as if
it were a request. A WSGI server that reads HTTP by the rules serves the
same application without them. Four worker processes serve clients at once,
as the stages' threads do; gunicorn's workers close each connection after one
answer, as the stages do.
"""

from flask import Flask, Response, abort, jsonify, request

app = Flask(__name__)

PAGE = "<html><body>Hello World</body></html>"


@app.before_request
def one_host():
    # HTTP/1.1 requires exactly one Host (RFC 9112, section 3.2), and a
    # server must refuse a request without one: gunicorn lets it through,
    # so the application refuses it itself. (Two Hosts reach it joined.)
    if request.environ.get("SERVER_PROTOCOL") == "HTTP/1.1":
        hosts = request.headers.getlist("Host")
        if len(hosts) != 1 or "," in hosts[0]:
            abort(400)


@app.get("/")
def root():
    pairs = list(request.args.items(multi=True))
    return Response(f"Query: {pairs}\n", mimetype="text/plain")


@app.post("/create")
def create():
    media_type = request.headers.get("Content-Type", "no Content-Type")
    body = request.get_data(as_text=True)
    return Response(f"Created from {media_type}: {body}\n", mimetype="text/plain")


@app.post("/some_json")
def some_json():
    return jsonify(hello="world")


@app.get("/index.html")
def index():
    return PAGE

