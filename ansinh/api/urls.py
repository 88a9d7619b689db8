from django.urls import path

from ansinh.api.api import api

urlpatterns = [path("", api.urls)]
