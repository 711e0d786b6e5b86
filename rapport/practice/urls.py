from django.urls import path

from rapport.practice import settings_views, staff_views, task_views, views

urlpatterns = [
    path("clients/new/", views.add_client, name="practice-add-client"),
    path("clients/<uuid:code>/invite/", views.invite, name="practice-invite"),
    path("practice/settings/", settings_views.practice_settings_page, name="practice-settings"),
    path("practice/staff/", staff_views.staff_list, name="practice-staff"),
    path("practice/staff/invite/", staff_views.invite, name="practice-staff-invite"),
    path("practice/staff/<uuid:code>/", staff_views.member, name="practice-staff-member"),
    path("practice/staff/<uuid:code>/caseload/", staff_views.reassign, name="practice-staff-reassign"),
    path("practice/failed-tasks/", task_views.failed_tasks, name="practice-failed-tasks"),
    path("practice/failed-tasks/<int:pk>/retry/", task_views.retry,
         name="practice-failed-task-retry"),
    path("welcome/<str:uidb64>/<str:token>/", staff_views.welcome, name="practice-welcome"),
]
