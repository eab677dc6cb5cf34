from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from tucai.accounts.models import Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ["institution", "school_class", "student"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "display_name", "email", "is_staff", "is_active"]
    fieldsets = BaseUserAdmin.fieldsets + ((None, {"fields": ["display_name"]}),)


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "institution", "role", "school_class", "created_at"]
    list_filter = ["role", "institution"]
    search_fields = ["user__username", "user__display_name"]
    autocomplete_fields = ["user", "institution", "school_class", "student"]
