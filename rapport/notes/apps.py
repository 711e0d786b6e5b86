from django.apps import AppConfig


class NotesConfig(AppConfig):
    name = "rapport.notes"
    label = "notes"

    def ready(self) -> None:
        from rapport.notes.erasure import erase
        from rapport.privacy.registry import register

        register("notes", erase)
