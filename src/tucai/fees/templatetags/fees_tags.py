from django import template

from tucai.fees.money import fen_to_yuan

register = template.Library()


@register.filter
def yuan(fen) -> str:
    """Integer fen shown as yuan with two decimals."""
    return fen_to_yuan(fen)
