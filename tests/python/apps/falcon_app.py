"""falcon_app: the Falcon application of tests/python/test_frameworks.py:
text, JSON, a urlencoded form, a multipart upload, a streamed response
(resp.stream), and Falcon's own 404 for everything else."""

import hashlib

import falcon

# What /stream yields: ten chunks of 3 bytes to 256 KiB.
STREAM = [b"%d:" % i + bytes([65 + i]) * (1 << (2 * i)) for i in range(10)]


def _lists(form):
    """A parsed form as {name: [values]}, as the other apps answer."""
    return {k: v if isinstance(v, list) else [v] for k, v in form.items()}


class Hello:
    def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_TEXT
        resp.text = "hello from falcon\n"

    on_head = on_get


class Json:
    def on_get(self, req, resp):
        resp.media = {"framework": "falcon", "ok": True, "items": [1, 2, 3]}


class Form:
    def on_post(self, req, resp):
        resp.media = {"fields": _lists(req.get_media())}


class Upload:
    def on_post(self, req, resp):
        out, fields = {}, {}
        for part in req.get_media():
            if part.filename:
                data = part.stream.read()
                out = {"name": part.filename, "size": len(data),
                       "sha256": hashlib.sha256(data).hexdigest()}
            else:
                fields.setdefault(part.name, []).append(part.text)
        resp.media = dict(out, fields=fields)


class Stream:
    def on_get(self, req, resp):
        def generate():
            yield from STREAM
        resp.content_type = "application/octet-stream"
        resp.stream = generate()

    on_head = on_get


app = falcon.App()
app.add_route("/hello", Hello())
app.add_route("/json", Json())
app.add_route("/form", Form())
app.add_route("/upload", Upload())
app.add_route("/stream", Stream())
