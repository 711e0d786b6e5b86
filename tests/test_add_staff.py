import pytest
from django.core.management import CommandError, call_command

from rapport.accounts.models import Membership, Organisation, Supervision, User
from rapport.audit.models import AuditEvent


def test_a_new_practice_and_its_first_administrator(db, capsys):
    call_command("add_staff", "--practice", "Hillside", "--new-practice", "--email", "Ada@Hill.example",
                 "--name", "Ada", "--role", "admin")
    out = capsys.readouterr().out
    password = out.split("change it after logging in): ")[1].strip()
    user = User.objects.get(email="ada@hill.example")
    assert user.check_password(password)
    assert Membership.objects.get(user=user).organisation.name == "Hillside"
    assert AuditEvent.objects.filter(action="accounts.staff.added").count() == 1


def test_supervision_is_linked_to_a_therapist_of_the_same_practice(db):
    call_command("add_staff", "--practice", "Hillside", "--new-practice", "--email", "t@h.example",
                 "--name", "T", "--role", "therapist")
    call_command("add_staff", "--practice", "Hillside", "--email", "s@h.example", "--name", "S",
                 "--role", "supervisor", "--supervises", "t@h.example")
    link = Supervision.objects.get()
    assert (link.supervisor.email, link.therapist.email) == ("s@h.example", "t@h.example")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--practice", "Nowhere"], "no single practice named 'Nowhere'"),
        (["--practice", "Hillside", "--supervises", "x@h.example", "--role", "supervisor"],
         "x@h.example is not a therapist of Hillside"),
        (["--practice", "Hillside", "--supervises", "x@h.example"], "--supervises needs --role supervisor"),
    ],
)
def test_mistakes_are_explained_and_change_nothing(db, args, message):
    Organisation.objects.create(name="Hillside")
    base = ["--email", "n@h.example", "--name", "N"]
    if "--role" not in args:
        base += ["--role", "therapist"]
    with pytest.raises(CommandError, match=message):
        call_command("add_staff", *args, *base)
    assert not User.objects.filter(email="n@h.example").exists()
