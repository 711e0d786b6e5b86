from django.urls import path

from rapport.goals import views

urlpatterns = [
    path("episodes/<uuid:code>/goals/", views.episode_goals, name="goals-episode"),
    path("goals/<uuid:code>/", views.goal_detail, name="goals-goal"),
]
