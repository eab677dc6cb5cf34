"""The queue at the camera: order, fairness on requeue, illegal moves refused, the controls fragment."""

from __future__ import annotations

import pytest

from tucai.capture import selectors
from tucai.capture.models import Ticket, TicketState
from tucai.capture.services.queue import (
    queue_call_next, queue_finish, queue_recall, queue_skip, queue_start,
)
from tucai.capture.state import ticket_transition
from tucai.core.errors import TucaiError


def test_call_next_takes_lowest_queue_order(campaign, room, day, make_ticket):
    t1, t2, t3 = make_ticket(), make_ticket(), make_ticket()
    called = queue_call_next(campaign=campaign, room=room, date=day)
    assert called.pk == t1.pk and called.state == TicketState.CALLED and called.called_at is not None
    assert queue_call_next(campaign=campaign, room=room, date=day).pk == t2.pk
    assert [t.pk for t in selectors.queue_waiting(room=room, date=day)] == [t3.pk]
    assert {t.pk for t in selectors.queue_now_serving(room=room, date=day)} == {t1.pk, t2.pk}


def test_call_next_empty_queue_returns_none(campaign, room, day, make_ticket):
    make_ticket(state=TicketState.DONE)
    assert queue_call_next(campaign=campaign, room=room, date=day) is None


def test_skipped_ticket_goes_to_the_back(campaign, room, day, make_ticket):
    t1, t2, t3 = make_ticket(), make_ticket(), make_ticket()
    called = queue_call_next(campaign=campaign, room=room, date=day)
    skipped = queue_skip(ticket=called)
    assert skipped.state == TicketState.WAITING and skipped.requeue_count == 1
    assert [t.pk for t in selectors.queue_waiting(room=room, date=day)] == [t2.pk, t3.pk, t1.pk]
    assert selectors.ticket_position(ticket=skipped) == 2
    assert selectors.ticket_position(ticket=Ticket.objects.get(pk=t2.pk)) == 0
    # Later arrivals still line up behind the requeued one: nobody cuts in.
    t4 = make_ticket(number=4)
    t4.queue_order = Ticket.objects.get(pk=t1.pk).queue_order + 1
    t4.save()
    order = [queue_call_next(campaign=campaign, room=room, date=day).pk for _ in range(4)]
    assert order == [t2.pk, t3.pk, t1.pk, t4.pk]


def test_skip_from_at_camera_and_full_path(campaign, room, day, make_ticket):
    t1 = make_ticket()
    t = queue_start(ticket=queue_call_next(campaign=campaign, room=room, date=day))
    assert t.state == TicketState.AT_CAMERA
    t = queue_skip(ticket=t)
    assert t.state == TicketState.WAITING
    t = queue_call_next(campaign=campaign, room=room, date=day)
    assert t.pk == t1.pk
    t = queue_recall(ticket=t)
    assert t.state == TicketState.CALLED
    t = queue_finish(ticket=queue_start(ticket=t))
    assert t.state == TicketState.DONE and t.done_at is not None


@pytest.mark.parametrize("state,fn", [
    (TicketState.WAITING, queue_start),
    (TicketState.WAITING, queue_finish),
    (TicketState.WAITING, queue_skip),
    (TicketState.WAITING, queue_recall),
    (TicketState.CALLED, queue_finish),
    (TicketState.DONE, queue_skip),
    (TicketState.DONE, queue_recall),
])
def test_illegal_moves_refused(make_ticket, state, fn):
    t = make_ticket(state=state)
    with pytest.raises(TucaiError) as exc:
        fn(ticket=t)
    assert exc.value.code == "ticket.illegal_transition"
    assert Ticket.objects.get(pk=t.pk).state == state


def test_transition_writes_audit(make_ticket, operator_user):
    from tucai.audit.models import AuditEntry

    t = make_ticket()
    ticket_transition(ticket=t, to=TicketState.CALLED, actor=operator_user)
    entry = AuditEntry.objects.get(action="ticket.transition", entity_id=str(t.pk))
    assert entry.actor == operator_user and entry.changes == {"state": ["waiting", "called"]}


def test_queue_controls_fragment(client, operator_user, campaign, room, day, make_ticket):
    t1, t2 = make_ticket(), make_ticket()
    client.force_login(operator_user)
    url = f"/capture/queue/{room.pk}/{day.isoformat()}/controls/"
    html = client.get(url).content.decode()
    assert "叫下一位" in html and "2 人等待" in html
    r = client.post(f"/capture/queue/{room.pk}/{day.isoformat()}/call_next/", {"campaign": campaign.pk})
    assert r.status_code == 200 and f'data-ticket="{t1.pk}"' in r.content.decode()
    assert "queue-changed" in r["HX-Trigger"]
    r = client.post(f"/capture/queue/{room.pk}/{day.isoformat()}/skip/", {"campaign": campaign.pk, "ticket": t1.pk})
    assert Ticket.objects.get(pk=t1.pk).state == TicketState.WAITING
    r = client.post(f"/capture/queue/{room.pk}/{day.isoformat()}/call_next/", {"campaign": campaign.pk})
    assert f'data-ticket="{t2.pk}"' in r.content.decode()
    # Illegal move is shown as an error, not a crash.
    r = client.post(f"/capture/queue/{room.pk}/{day.isoformat()}/finish/", {"campaign": campaign.pk, "ticket": t2.pk})
    assert 'data-code="ticket.illegal_transition"' in r.content.decode()


def test_queue_controls_need_permission(client, institution, room, day, campaign, user_factory):
    outsider = user_factory("outsider")
    client.force_login(outsider)
    assert client.get(f"/capture/queue/{room.pk}/{day.isoformat()}/controls/").status_code == 403
    client.logout()
    assert client.get(f"/capture/queue/{room.pk}/{day.isoformat()}/controls/").status_code == 302
