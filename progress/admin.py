"""Catalog authoring through the Django admin (courses, modules, activities, plans)."""

from django.contrib import admin

from progress.models import (
    Activity,
    Course,
    ExternalTraining,
    LearningPlan,
    LearningPlanCourse,
    Module,
)


class ModuleInline(admin.TabularInline):
    model = Module
    extra = 0


class ActivityInline(admin.StackedInline):
    model = Activity
    extra = 0
    fields = [
        ("title", "kind", "position"),
        ("is_required", "drip_days"),
        ("pass_mark", "attempt_limit"),
        "content",
    ]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "is_published", "sequential"]
    prepopulated_fields = {"slug": ["title"]}
    filter_horizontal = ["prerequisites"]
    search_fields = ["title"]
    inlines = [ModuleInline]


@admin.register(Module)
class ModuleAdmin(admin.ModelAdmin):
    list_display = ["title", "course", "position"]
    list_filter = ["course"]
    inlines = [ActivityInline]


class LearningPlanCourseInline(admin.TabularInline):
    model = LearningPlanCourse
    extra = 0


@admin.register(LearningPlan)
class LearningPlanAdmin(admin.ModelAdmin):
    list_display = ["title"]
    inlines = [LearningPlanCourseInline]


@admin.register(ExternalTraining)
class ExternalTrainingAdmin(admin.ModelAdmin):
    list_display = ["title", "provider"]
