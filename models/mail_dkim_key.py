"""``mail.dkim.key``: the DKIM keys this database signs its outgoing mail with, one domain each.

The private key is readable by the system only (``groups=NO_ACCESS``: no user reads, exports or sees
it; the signing code reads it as superuser). Lifecycle: the first key of a domain (per algorithm)
signs once its record is published (or when the administrator forces it); a rotation creates a new
key beside it, which takes over once DNS shows it; the old key is then kept published for a grace
period and listed for removal, until DNS no longer shows it. The cron watches all of it. Signing
itself happens on the send path (``ir.mail_server._dkim_sign``), with the signers given here.
"""

import logging
from datetime import timedelta

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError, ValidationError

from .. import seams
from ..deliverability import dkim_keys, dkim_sign
from ..deliverability.dkim_keys import OwnKey, Publication
from ..deliverability.domains import normalize_domain

_logger = logging.getLogger(__name__)

STATES = [
    ("active", "Current key"),
    ("new", "Next key (waits for DNS)"),
    ("previous", "Replaced (kept during the grace period)"),
    ("remove", "To remove from DNS"),
]
PUBLICATIONS = [(p.value, p.label[:1].upper() + p.label[1:]) for p in Publication]
ALGORITHMS = [("rsa", "RSA 2048"), ("ed25519", "Ed25519")]
SIGNING_FIELDS = {"active", "domain", "selector", "state", "publication", "force_signing", "private_key"}
GRACE_PARAM = "mail_domain_health.dkim_grace_days"
DEFAULT_GRACE_DAYS = 7


@seams.unique(
    "selector_unique", "unique(domain, selector)", "A domain cannot have two keys with the same selector."
)
class MailDkimKey(models.Model):
    _name = "mail.dkim.key"
    _description = "DKIM Signing Key"
    _order = "domain, algorithm, id desc"
    _rec_name = "record_name"

    active = fields.Boolean(default=True)
    domain = fields.Char(required=True, index=True, help="The From domain this key signs for (d=).")
    selector = fields.Char(required=True, help="The name under _domainkey where the public key is published.")
    algorithm = fields.Selection(ALGORITHMS, string="Key Type", required=True, default="rsa")
    state = fields.Selection(STATES, required=True, default="active", readonly=True)
    private_key = fields.Text(groups=fields.NO_ACCESS, copy=False, prefetch=False)
    pem_import = fields.Text(
        string="Import a Private Key (PEM)",
        compute="_compute_pem_import",
        inverse="_inverse_pem_import",
        help="Paste an existing unencrypted private key to sign with it; leave empty to generate one.",
    )
    public_key = fields.Char(readonly=True, copy=False)
    key_bits = fields.Integer(string="Key Size", readonly=True, copy=False)
    force_signing = fields.Boolean(
        string="Sign Before Published",
        help="Sign with this key even while DNS does not show its record (receivers fail such signatures).",
    )
    publication = fields.Selection(PUBLICATIONS, string="In DNS", readonly=True, copy=False)
    publication_detail = fields.Text(string="DNS Check", readonly=True, copy=False)
    publication_checked = fields.Datetime(string="DNS Checked", readonly=True, copy=False)
    replaces_id = fields.Many2one("mail.dkim.key", string="Replaces", readonly=True, ondelete="set null")
    remove_after = fields.Datetime(
        readonly=True, copy=False, help="End of the grace period of a replaced key."
    )
    record_name = fields.Char(string="Record", compute="_compute_record_name", store=True)
    zone_line = fields.Char(string="Zone-File Line", compute="_compute_record")
    dns_host = fields.Char(string="Host", compute="_compute_record")
    dns_type = fields.Char(string="Type", compute="_compute_record")
    dns_value = fields.Text(string="Value", compute="_compute_record")
    signs = fields.Boolean(string="Signs Mail", compute="_compute_signs")

    @api.depends("domain", "selector")
    def _compute_record_name(self):
        for key in self:
            key.record_name = (
                f"{key.selector}._domainkey.{key.domain}" if key.domain and key.selector else False
            )

    @api.depends("domain", "selector", "algorithm", "public_key")
    def _compute_record(self):
        for key in self:
            record = key._dkim_record()
            key.zone_line = record.zone_line if record else False
            key.dns_host = record.host() if record else False
            key.dns_type = record.type if record else False
            key.dns_value = record.value if record else False

    @api.depends("state", "publication", "force_signing", "active")
    def _compute_signs(self):
        for key in self:
            key.signs = key._dkim_signs()

    def _compute_pem_import(self):
        self.pem_import = False

    def _inverse_pem_import(self):
        for key in self.filtered("pem_import"):
            if key.public_key:
                raise UserError(
                    _("The key of %s cannot be replaced; create a new key instead.", key.record_name)
                )
            key._dkim_store(self._dkim_import(key.pem_import))

    @api.model
    def _dkim_import(self, pem):
        try:
            return dkim_keys.import_pem(pem)
        except dkim_keys.DkimKeyError as exc:
            raise ValidationError(_("This private key cannot be used: %s", exc)) from None

    def _dkim_store(self, pair):
        """Store ``pair`` on this key: the private key as the system (no user may write it)."""
        self.ensure_one()
        self.write({"public_key": pair.public_key, "key_bits": pair.bits, "algorithm": pair.algorithm})
        self.sudo().write({"private_key": pair.private_pem})

    def _dkim_record(self):
        """The ``records.DnsRecord`` to publish, or None before the key exists."""
        self.ensure_one()
        if not (self.domain and self.selector and self.public_key):
            return None
        return dkim_keys.dns_record(self.selector, self.domain, self.algorithm, self.public_key)

    def _dkim_signs(self):
        self.ensure_one()
        return bool(
            self.active
            and self.state == "active"
            and (self.publication == Publication.PUBLISHED.value or self.force_signing)
        )

    # --- Creation, validation -----------------------------------------------------------------------

    @api.model
    def _dkim_clean(self, vals):
        vals = dict(vals)
        if vals.get("domain"):
            try:
                vals["domain"] = normalize_domain(vals["domain"])
            except ValueError as exc:
                raise ValidationError(
                    _("%(domain)s is not a domain name: %(error)s", domain=vals["domain"], error=exc)
                ) from None
        if "selector" in vals:
            selector = (vals["selector"] or "").strip().lower()
            if not selector and not self:  # a new key's selector left empty: generated at creation
                del vals["selector"]
            elif not dkim_keys.valid_selector(selector):
                raise ValidationError(
                    _("%s is not a valid selector: use letters, digits and hyphens.", selector)
                )
            else:
                vals["selector"] = selector
        return vals

    @api.model_create_multi
    def create(self, vals_list):
        """A generated key unless a PEM is imported; a domain that has a key signing already gets the
        new one as its next key (a rotation)."""
        seams.check_create_access(self)  # before generating keys
        prepared, pairs = [], []
        for vals in vals_list:
            vals = self._dkim_clean(vals)
            pem = vals.pop("pem_import", False)
            pair = self._dkim_import(pem) if pem else dkim_keys.generate(vals.get("algorithm") or "rsa")
            vals["algorithm"] = pair.algorithm
            if not vals.get("selector"):
                vals["selector"] = self._dkim_new_selector(vals.get("domain"), pair.algorithm)
            current = self.search(
                [
                    ("domain", "=", vals.get("domain")),
                    ("algorithm", "=", pair.algorithm),
                    ("state", "=", "active"),
                ],
                limit=1,
            )
            if current and vals.get("state", "active") == "active":
                vals.update(state="new", replaces_id=current.id)
            prepared.append(vals)
            pairs.append(pair)
        keys = super().create(prepared)
        for key, pair in zip(keys, pairs, strict=True):
            key._dkim_store(pair)
        return keys

    def write(self, vals):
        result = super().write(self._dkim_clean(vals))
        if SIGNING_FIELDS.intersection(vals):
            self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    def copy(self, default=None):
        raise UserError(_("A DKIM key cannot be duplicated: rotate it to get a new one."))

    @api.model
    def _dkim_new_selector(self, domain, algorithm):
        taken = set(self.with_context(active_test=False).search([("domain", "=", domain)]).mapped("selector"))
        today = fields.Date.context_today(self)
        return dkim_keys.new_selector(algorithm, today.year, today.month, taken)

    # --- Rotation -----------------------------------------------------------------------------------

    def action_rotate(self):
        """A new key beside this one; it takes over once its record is visible in DNS."""
        self.ensure_one()
        if self.state != "active":
            raise UserError(_("Only the key that signs can be rotated."))
        pending = self.search([("replaces_id", "=", self.id), ("state", "=", "new")], limit=1)
        if not pending:
            pending = self.create(
                {"domain": self.domain, "algorithm": self.algorithm, "state": "new", "replaces_id": self.id}
            )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": pending.id,
            "view_mode": "form",
            "target": "current",
        }

    def action_check_dns(self):
        self._dkim_check()
        return True

    # --- DNS: publication, switch, removal (cron) ---------------------------------------------------

    def _dkim_own_key(self):
        self.ensure_one()
        return OwnKey(self.domain, self.selector, self.algorithm, self.public_key, self.state == "active")

    @api.model
    def _dkim_own_keys(self):
        """The keys the domain health check verifies: ``OwnKey`` (domain, selector, key, whether it signs
        already) of every key signing or about to, per domain; the health check says for each
        whether DNS publishes it, not yet, or a different key."""
        keys = self.sudo().search([("state", "in", ("active", "new"))])
        return tuple(key._dkim_own_key() for key in keys)

    def _dkim_check(self):
        """Look each key up in DNS, then switch, start grace periods and archive removed keys."""
        keys = self.sudo()
        try:
            run_options = self.env["mail.domain.health"]._health_settings().run_options
        except ValueError as exc:
            keys.write({"publication": Publication.UNKNOWN.value, "publication_detail": str(exc)})
            return
        results = dkim_keys.check_keys([key._dkim_own_key() for key in keys], run_options)
        now = fields.Datetime.now()
        for key, (publication, finding) in zip(keys, results, strict=True):
            key.write(
                {
                    "publication": publication.value,
                    "publication_detail": finding.summary,
                    "publication_checked": now,
                }
            )
        grace = timedelta(
            days=int(self.env["ir.config_parameter"].sudo().get_param(GRACE_PARAM, DEFAULT_GRACE_DAYS))
        )
        for key in keys.filtered(lambda k: k.state == "new" and k.publication == Publication.PUBLISHED.value):
            previous = keys.search(
                [("domain", "=", key.domain), ("algorithm", "=", key.algorithm), ("state", "=", "active")]
            )
            previous.write({"state": "previous", "remove_after": now + grace})
            key.write({"state": "active"})
            _logger.info("DKIM: %s now signs mail from %s", key.record_name, key.domain)
        for key in keys.filtered(
            lambda k: k.state == "previous" and k.remove_after and k.remove_after <= now
        ):
            key.write({"state": "remove"})
        gone = keys.filtered(
            lambda k: k.state == "remove" and k.publication == Publication.NOT_PUBLISHED.value
        )
        gone.write({"active": False})

    @api.model
    def _cron_check_keys(self):
        self.search([])._dkim_check()

    # --- Signing (no DNS: stored publication only) ---------------------------------------------------

    @api.model
    @tools.ormcache()
    def _dkim_signers(self):
        """``{domain: (Signer, ...)}`` for every domain with a key in use; an empty tuple when its key
        does not sign (not published, not forced). Cleared by every change of a key."""
        signers = {}
        for key in self.sudo().search([("state", "=", "active")]):
            found = signers.setdefault(key.domain, [])
            if not key._dkim_signs():
                continue
            try:
                found.append(dkim_sign.Signer.from_pem(key.domain, key.selector, key.private_key))
            except ValueError:
                _logger.warning(
                    "DKIM: the stored key %s cannot be read; mail is not signed with it", key.record_name
                )
        return {domain: tuple(found) for domain, found in signers.items()}
