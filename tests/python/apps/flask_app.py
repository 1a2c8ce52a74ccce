"""flask_app: the Flask application of tests/python/test_frameworks.py:
text, JSON, a urlencoded form, a multipart upload, a streamed response,
and Flask's own 404 for everything else."""

import hashlib

from flask import Flask, Response, jsonify, request

app = Flask(__name__)

# What /stream yields: ten chunks of 3 bytes to 256 KiB.
STREAM = [b"%d:" % i + bytes([65 + i]) * (1 << (2 * i)) for i in range(10)]


@app.get("/hello")
def hello():
    return Response("hello from flask\n", mimetype="text/plain")


@app.get("/json")
def json():
    return jsonify(framework="flask", ok=True, items=[1, 2, 3])


@app.post("/form")
def form():
    return jsonify(fields=request.form.to_dict(flat=False))


@app.post("/upload")
def upload():
    f = request.files["file"]
    data = f.read()
    return jsonify(name=f.filename, size=len(data),
                   sha256=hashlib.sha256(data).hexdigest(),
                   fields=request.form.to_dict(flat=False))


@app.get("/stream")
def stream():
    def generate():
        yield from STREAM
    return Response(generate(), mimetype="application/octet-stream")
