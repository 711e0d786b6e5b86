from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('scheduling', '0002_reminders'),
    ]

    operations = [
        migrations.AddField(
            model_name='reminderpolicy',
            name='checkin_invitations',
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name='reminderpolicy',
            name='checkin_hours_before',
            field=models.PositiveSmallIntegerField(default=24),
        ),
        migrations.AddField(
            model_name='reminderpolicy',
            name='followup_hours',
            field=models.PositiveSmallIntegerField(default=12),
        ),
        migrations.AddField(
            model_name='sentreminder',
            name='status',
            field=models.CharField(choices=[('held', 'Held for quiet hours'), ('sending', 'Being sent'), ('sent', 'Sent'), ('not_sent', 'Not sent')], default='sending', max_length=10),
        ),
        migrations.AddField(
            model_name='sentreminder',
            name='reason',
            field=models.CharField(blank=True, max_length=200),
        ),
    ]
