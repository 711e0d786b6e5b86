"""Clients' names, contact details and dates of birth become encrypted columns (text), with blind
indexes for e-mail and phone. The values themselves are encrypted by the next migration
(0005_encrypt_client_identifiers_data): a data step in its own transaction, as PostgreSQL will
not alter a table with pending trigger events from updates in the same transaction.
"""

import rapport.core.fields
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('care', '0003_client_intake'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='client',
            options={'ordering': ['id']},
        ),
        migrations.AddField(
            model_name='client',
            name='email_index',
            field=rapport.core.fields.BlindIndexField(kind='email', source='email'),
        ),
        migrations.AddField(
            model_name='client',
            name='phone_index',
            field=rapport.core.fields.BlindIndexField(kind='phone', source='phone'),
        ),
        migrations.AlterField(
            model_name='client',
            name='email',
            field=rapport.core.fields.EncryptedEmailField(blank=True, default='', max_length=254),
        ),
        migrations.AlterField(
            model_name='client',
            name='emergency_contact',
            field=rapport.core.fields.EncryptedCharField(blank=True, default='', help_text='Name and phone number', max_length=200),
        ),
        migrations.AlterField(
            model_name='client',
            name='name',
            field=rapport.core.fields.EncryptedCharField(default='', max_length=200),
        ),
        migrations.AlterField(
            model_name='client',
            name='phone',
            field=rapport.core.fields.EncryptedCharField(blank=True, default='', max_length=40),
        ),
        migrations.AlterField(
            model_name='client',
            name='preferred_name',
            field=rapport.core.fields.EncryptedCharField(blank=True, default='', max_length=100),
        ),
        migrations.AlterField(
            model_name='client',
            name='date_of_birth',
            field=rapport.core.fields.EncryptedDateField(blank=True, null=True),
        ),
    ]
