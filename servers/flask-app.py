import argparse
from flask import Flask, request, Response, jsonify

app = Flask(__name__)
PAGE = "<html><body>Hello World</body></html>"

@app.get("/")
def root():
    return Response(f"Query: {list(request.args.items(multi=True))}\n", mimetype="text/plain")

@app.post("/create")
def create():
    return Response(f"Created: {request.get_data(as_text=True)}\n", mimetype="text/plain")

@app.post("/some_json")
def some_json():
    return jsonify(hello="world")

@app.get("/index.html")
def index():
    return PAGE

if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=5000)
    port = parser.parse_args().port
    print(f"Listening on 127.0.0.1:{port}", flush=True)
    app.run(host="127.0.0.1", port=port)
