"""djsite.urls: the paths the tests ask for; anything else is Django's
404."""

from django.urls import path

from . import views

urlpatterns = [
    path("hello", views.hello),
    path("json", views.json),
    path("form", views.form),
    path("upload", views.upload),
    path("stream", views.stream),
]
