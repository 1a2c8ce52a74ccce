"""djsite.views: text, JSON, a urlencoded form, a multipart upload and a
streamed response (StreamingHttpResponse)."""

import hashlib

from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

# What /stream yields: ten chunks of 3 bytes to 256 KiB.
STREAM = [b"%d:" % i + bytes([65 + i]) * (1 << (2 * i)) for i in range(10)]


@require_safe
def hello(request):
    return HttpResponse("hello from django\n",
                        content_type="text/plain; charset=utf-8")


@require_safe
def json(request):
    return JsonResponse({"framework": "django", "ok": True,
                         "items": [1, 2, 3]})


@csrf_exempt
@require_POST
def form(request):
    return JsonResponse({"fields": dict(request.POST.lists())})


@csrf_exempt
@require_POST
def upload(request):
    f = request.FILES["file"]
    data = f.read()
    return JsonResponse({"name": f.name, "size": len(data),
                         "sha256": hashlib.sha256(data).hexdigest(),
                         "fields": dict(request.POST.lists())})


@require_safe
def stream(request):
    def generate():
        yield from STREAM
    return StreamingHttpResponse(generate(),
                                 content_type="application/octet-stream")
