def uninstall_hook(env):
    """Remove this module's own system parameters; core mail parameters are left as they are."""
    env["ir.config_parameter"].sudo().search([("key", "=like", "mail_domain_health.%")]).unlink()
