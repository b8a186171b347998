from pypinyin import Style, lazy_pinyin


def pinyin_initials(text: str) -> str:
    """'昆山元宇宙科技' -> 'ksyyzkj'. Letters and digits pass through lower-cased."""
    initials = lazy_pinyin(text, style=Style.FIRST_LETTER, errors=lambda chars: list(chars))
    return "".join(ch for ch in "".join(initials).lower() if ch.isalnum())[:200]
