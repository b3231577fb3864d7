from django.contrib import admin

from achievements.models import Badge, GamificationSettings, PointsBalance, PointsEntry, UserBadge


@admin.register(Badge)
class BadgeAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "rule", "threshold", "points", "is_active"]
    list_filter = ["category", "is_active"]


@admin.register(PointsEntry)
class PointsEntryAdmin(admin.ModelAdmin):
    """Read-only: the ledger changes only through the services."""

    list_display = ["user", "amount", "reason", "source", "awarded_at"]
    list_filter = ["source"]
    raw_id_fields = ["user", "actor", "impersonator"]

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


admin.site.register(GamificationSettings)
admin.site.register(PointsBalance)
admin.site.register(UserBadge)
