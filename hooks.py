def post_init_hook(env):
    """Make one identity of what the database holds already: the identity parameters are written
    through to the alias domains, and From filters are stored with ASCII (IDNA) domains."""
    servers = (
        env["ir.mail_server"].sudo().with_context(active_test=False).search([("from_filter", "!=", False)])
    )
    for server in servers.filtered(lambda server: not server.from_filter.isascii()):
        server.write({"from_filter": server.from_filter})  # stored in ASCII by ir.mail_server.write
    env["mail.alias.domain"]._mdh_apply_parameters()


def uninstall_hook(env):
    """Remove this module's own system parameters; core mail parameters are left as they are."""
    env["ir.config_parameter"].sudo().search([("key", "=like", "mail_domain_health.%")]).unlink()
