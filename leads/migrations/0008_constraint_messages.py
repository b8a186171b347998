"""Constraints speak on their fields (crm.core.models.FieldConstraintsMixin), and the company's
registered capital and region code get the checks the importer already made.

Rows entered before these checks (the company form accepted a capital of -500 and a region code
"ABC") are mended first rather than refused: the bad value is cleared and kept, word for word,
in the company's notes, so nothing typed is lost and the constraints can be added."""

import django.core.validators
from decimal import Decimal
from django.conf import settings
from django.db import migrations, models


def keep_and_clear_bad_values(apps, schema_editor):
    Company = apps.get_model("leads", "Company")
    for company in Company.objects.filter(registered_capital_wan__lt=0):
        company.notes = (company.notes + f"\n（原注册资本：{company.registered_capital_wan} 万元）").strip()
        company.registered_capital_wan = None
        company.save(update_fields=["notes", "registered_capital_wan"])
    for company in Company.objects.exclude(hq_region_code="").exclude(
            hq_region_code__regex=r"^[0-9]{6}$"):
        company.notes = (company.notes + f"\n（原地区代码：{company.hq_region_code}）").strip()
        company.hq_region_code = ""
        company.save(update_fields=["notes", "hq_region_code"])


class Migration(migrations.Migration):

    dependencies = [
        ('leads', '0007_team_change'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(keep_and_clear_bad_values, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='company',
            name='hq_region_code',
            field=models.CharField(blank=True, help_text='GB/T 2260 code of the headquarters, e.g. 110108.', max_length=6, validators=[django.core.validators.RegexValidator('^[0-9]{6}$', 'A region code is the six digits of GB/T 2260, e.g. 320583.')], verbose_name='headquarters region code'),
        ),
        migrations.AlterField(
            model_name='company',
            name='registered_capital_wan',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, validators=[django.core.validators.MinValueValidator(Decimal('0'))], verbose_name='registered capital (10k)'),
        ),
        migrations.AlterField(
            model_name='historicalcompany',
            name='hq_region_code',
            field=models.CharField(blank=True, help_text='GB/T 2260 code of the headquarters, e.g. 110108.', max_length=6, validators=[django.core.validators.RegexValidator('^[0-9]{6}$', 'A region code is the six digits of GB/T 2260, e.g. 320583.')], verbose_name='headquarters region code'),
        ),
        migrations.AlterField(
            model_name='historicalcompany',
            name='registered_capital_wan',
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=14, null=True, validators=[django.core.validators.MinValueValidator(Decimal('0'))], verbose_name='registered capital (10k)'),
        ),
        migrations.AddConstraint(
            model_name='company',
            constraint=models.CheckConstraint(condition=models.Q(('registered_capital_wan__isnull', True), ('registered_capital_wan__gte', 0), _connector='OR'), name='company_capital_non_negative', violation_error_message='The registered capital cannot be negative.'),
        ),
        migrations.AddConstraint(
            model_name='company',
            constraint=models.CheckConstraint(condition=models.Q(('hq_region_code', ''), ('hq_region_code__regex', '^[0-9]{6}$'), _connector='OR'), name='company_region_code_shape', violation_error_message='A region code is the six digits of GB/T 2260, e.g. 320583.'),
        ),
        migrations.AlterConstraint(
            model_name='company',
            name='company_uscc_shape',
            constraint=models.CheckConstraint(condition=models.Q(('uscc__isnull', True), ('uscc__regex', '^[0-9A-Z]{18}$'), _connector='OR'), name='company_uscc_shape', violation_error_message='A credit code is 18 digits and capital letters.'),
        ),
        migrations.AlterConstraint(
            model_name='project',
            name='project_space_range_ordered',
            constraint=models.CheckConstraint(condition=models.Q(('space_min_m2__isnull', True), ('space_max_m2__isnull', True), ('space_max_m2__gte', models.F('space_min_m2')), _connector='OR'), name='project_space_range_ordered', violation_error_message='The largest area cannot be below the smallest.'),
        ),
        migrations.AlterConstraint(
            model_name='project',
            name='project_funds_arrived_non_negative',
            constraint=models.CheckConstraint(condition=models.Q(('funds_arrived_wan__gte', 0)), name='project_funds_arrived_non_negative', violation_error_message='Funds arrived cannot be negative.'),
        ),
        migrations.AlterConstraint(
            model_name='qualification',
            name='qualification_dates_ordered',
            constraint=models.CheckConstraint(condition=models.Q(('expires_on__isnull', True), ('issued_on__isnull', True), ('expires_on__gte', models.F('issued_on')), _connector='OR'), name='qualification_dates_ordered', violation_error_message='A qualification cannot expire before it is issued.'),
        ),
        migrations.AlterConstraint(
            model_name='stage',
            name='stage_probability_0_100',
            constraint=models.CheckConstraint(condition=models.Q(('probability__lte', 100)), name='stage_probability_0_100', violation_error_message='A probability is 0 to 100 %.'),
        ),
    ]
