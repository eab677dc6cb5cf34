from django.urls import path

from tucai.capture import views_codes, views_desk, views_queue, views_student

app_name = "capture"
urlpatterns: list = [
    # queue at the camera (the station page includes the controls fragment) and the public display
    path("queue/<int:room_id>/<str:day>/", views_queue.queue_page, name="queue_page"),
    path("queue/<int:room_id>/<str:day>/controls/", views_queue.queue_controls, name="queue_controls"),
    path("queue/<int:room_id>/<str:day>/<slug:action>/", views_queue.queue_action, name="queue_action"),
    path("display/<int:room_id>/<str:day>/", views_queue.display, name="display"),
    path("display/<int:room_id>/<str:day>/board/", views_queue.display_fragment, name="display_fragment"),
    # check-in desk
    path("c/<slug:code>/desk/", views_desk.desk_index, name="desk_index"),
    path("desk/<int:campaign_id>/<int:room_id>/<str:day>/", views_desk.desk_page, name="desk"),
    path("desk/<int:campaign_id>/<int:room_id>/<str:day>/token/", views_desk.desk_token_view, name="desk_token"),
    path("desk/<int:campaign_id>/<int:room_id>/<str:day>/search/", views_desk.desk_search, name="desk_search"),
    path("desk/<int:campaign_id>/<int:room_id>/<str:day>/bind/", views_desk.desk_bind, name="desk_bind"),
    path("api/checkin/", views_desk.api_checkin, name="api_checkin"),
    path("api/desk/checkin/", views_desk.api_desk_checkin, name="api_desk_checkin"),
    path("desk/token/<int:token_id>/revoke/", views_desk.desk_token_revoke_view, name="desk_token_revoke"),
    path("api/decode/", views_desk.api_decode, name="api_decode"),
    # the student's phone
    path("c/<slug:code>/me/", views_student.me, name="me"),
    path("c/<slug:code>/me/login/", views_student.me_login, name="me_login"),
    path("c/<slug:code>/me/status/", views_student.me_status, name="me_status"),
    path("c/<slug:code>/me/logout/", views_student.me_logout, name="me_logout"),
    # code administration
    path("c/<slug:code>/codes/", views_codes.codes_index, name="codes_index"),
    path("c/<slug:code>/codes/class/<int:class_id>/", views_codes.codes_sheet, name="codes_sheet"),
    path("c/<slug:code>/codes/student/<int:student_id>/", views_codes.codes_student, name="codes_student"),
    path("c/<slug:code>/codes/student/<int:student_id>/reissue/", views_codes.codes_reissue, name="codes_reissue"),
    path("c/<slug:code>/codes/student/<int:student_id>/revoke/", views_codes.codes_revoke, name="codes_revoke"),
]
