"""From 18.0.1.0.0: one identity of the parameters already stored, and the provider setting freed
from the old default."""

from odoo import SUPERUSER_ID, api, release
from odoo.addons.mail_domain_health.hooks import post_init_hook

PROVIDER_PARAM = "mail_domain_health.provider"


def migrate(cr, version):
    env = api.Environment(cr, SUPERUSER_ID, {})
    post_init_hook(env)
    # 18.0.1.0.0 stored "flectra", its default, whenever the settings were saved. Outside Flectra that
    # include can only be the old default: let the outgoing servers and the platform decide.
    if release.product_name != "Flectra":
        icp = env["ir.config_parameter"].sudo()
        if icp.get_param(PROVIDER_PARAM) == "flectra":
            icp.search([("key", "=", PROVIDER_PARAM)]).unlink()
