"""The engine's texts in the reader's language (``deliverability.texts``): the Odoo translations of the
addon's terms, the engine's ``_lt`` msgids included, looked up for ``env.lang`` at display time."""

from odoo.tools.translate import code_translations

from ..deliverability import texts

MODULE = "mail_domain_health"


def translated(env, text):
    """``text`` (an engine text, stored or fresh) in the language of ``env``; unchanged in English."""
    lang = env.lang or "en_US"
    if not text or lang == "en_US":
        return text
    return texts.translate(text, code_translations.get_python_translations(MODULE, lang))


def translated_lines(env, lines):
    """Each of ``lines`` (engine texts) translated, one per line, each starting as a sentence."""
    return "\n".join(_sentence(translated(env, line)) for line in lines)


def _sentence(text):
    return text[:1].upper() + text[1:]
