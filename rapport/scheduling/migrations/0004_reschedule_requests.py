import uuid

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0001_initial'),
        ('care', '0003_client_intake'),
        ('scheduling', '0003_checkin_invitations_and_delivery_status'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='RescheduleRequest',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('code', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ('key', models.UUIDField()),
                ('reason', models.CharField(choices=[('clash', 'Something else came up at that time'), ('work', 'Work or study'), ('health', 'I am unwell'), ('travel', 'Travel'), ('care', 'Caring for someone'), ('other', 'Another reason')], max_length=20)),
                ('options', models.JSONField(default=list)),
                ('status', models.CharField(choices=[('open', 'Waiting for the therapist'), ('proposed', 'The therapist proposed another time'), ('accepted', 'Moved'), ('declined', 'Not moved')], default='open', max_length=10)),
                ('proposed_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('decided_at', models.DateTimeField(blank=True, null=True)),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='accounts.organisation')),
                ('session', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='move_requests', to='care.session')),
            ],
            options={
                'ordering': ['-created_at'],
                'constraints': [models.UniqueConstraint(fields=('organisation', 'key'), name='unique_move_request_key'), models.UniqueConstraint(condition=models.Q(('status__in', ['open', 'proposed'])), fields=('session',), name='one_open_move_request_per_session')],
            },
        ),
    ]
