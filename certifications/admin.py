from django.contrib import admin

from certifications.models import (
    Certification,
    CertificationAward,
    CertificationImport,
    CertificationReminder,
)


@admin.register(Certification)
class CertificationAdmin(admin.ModelAdmin):
    list_display = ["title", "validity_days", "renewal_window_days"]
    search_fields = ["title"]


@admin.register(CertificationAward)
class CertificationAwardAdmin(admin.ModelAdmin):
    list_display = [
        "certification",
        "user",
        "issued_on",
        "expires_on",
        "is_current",
        "ended_reason",
    ]
    list_filter = ["is_current", "association", "certification"]
    search_fields = ["user__username", "user__email", "code"]
    raw_id_fields = ["user", "awarded_by", "certification", "external_training"]
    list_select_related = ["certification", "user"]


@admin.register(CertificationImport)
class CertificationImportAdmin(admin.ModelAdmin):
    list_display = [
        "file_name",
        "certification",
        "status",
        "total_rows",
        "error_rows",
        "created_at",
    ]
    exclude = ["rows"]


admin.site.register(CertificationReminder)
