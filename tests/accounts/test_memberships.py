import pytest
from django.db import IntegrityError, transaction

from tests.conftest import make_user
from tucai.accounts.models import Membership
from tucai.accounts.selectors import user_can, user_sees_full_id


@pytest.mark.django_db
def test_one_role_per_institution_but_a_monitor_may_hold_several_classes(institution, school_class, campaign,
                                                                        department):
    from tucai.campaigns.models import SchoolClass

    user = make_user("u1", institution=institution, role="office")
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=user, institution=institution, role="office")
    other = SchoolClass.objects.create(campaign=campaign, department=department, name="电商1212")
    Membership.objects.create(user=user, institution=institution, role="monitor", school_class=school_class)
    Membership.objects.create(user=user, institution=institution, role="monitor", school_class=other)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(user=user, institution=institution, role="monitor", school_class=other)


@pytest.mark.django_db
def test_permissions_are_scoped_to_the_institution_and_operators_see_masked_ids(institution, office_user,
                                                                                operator_user):
    from tucai.campaigns.models import Institution

    other = Institution.objects.create(code="x", name="别的学院")
    assert user_can(user=office_user, institution_id=institution.pk, perm="roster.import")
    assert not user_can(user=office_user, institution_id=other.pk, perm="roster.import")
    assert not user_can(user=operator_user, institution_id=institution.pk, perm="roster.import")
    assert user_can(user=operator_user, institution_id=institution.pk, perm="checkin.perform")
    assert user_sees_full_id(user=office_user, institution_id=institution.pk)
    assert not user_sees_full_id(user=operator_user, institution_id=institution.pk)
