"""Data-entry screens for data managers and monitors, on Django's admin.

Importing this package registers every registry model; ``base`` holds the site scoping, the
role-based permissions and the save-through-services machinery they share.
"""

from django.contrib import admin

from . import crf, patients, quality, reference  # noqa: F401 - registers the admins

admin.site.site_header = "HCC registry"
admin.site.site_title = "HCC registry"
admin.site.index_title = "Data entry"
