from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "rapport.notes"
    label = "notes"
