from django.apps import AppConfig


class CheckinsConfig(AppConfig):
    name = "rapport.checkins"
    label = "checkins"
