{
    "name": "Mail Domain Health",
    "version": "18.0.1.0.0",
    "summary": "Check SPF, DKIM, DMARC and MX of your sending domains, and send from addresses that pass them",
    "category": "Productivity/Discuss",
    "author": "mail_domain_health contributors",
    "website": "https://github.com/mail-domain-health/mail_domain_health",
    "license": "LGPL-3",
    "depends": ["mail"],
    "external_dependencies": {
        "python": ["dnspython", "publicsuffixlist", "dkimpy", "spftrace"],
    },
    "data": [],
    "installable": True,
    "application": False,
}
