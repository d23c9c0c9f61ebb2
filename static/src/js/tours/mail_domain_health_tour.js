import { registry } from "@web/core/registry";

/**
 * Settings ‣ Technical ‣ Email ‣ Domain Health: the wizard lists the domains in use, an
 * administrator adds one, runs the checks and sees a verdict with the record to publish. Then a
 * new outgoing server checked at once (Check Domains Now), a DKIM key created with an empty selector,
 * and Messages by Source showing the reports received.
 */
registry.category("web_tour.tours").add("mail_domain_health_tour", {
    steps: () => [
        {
            content: "Open the apps menu",
            trigger: ".o_navbar_apps_menu button",
            run: "click",
        },
        {
            content: "Open Settings",
            trigger: '.o_app[data-menu-xmlid="base.menu_administration"]',
            run: "click",
        },
        {
            content: "Open the Technical menu",
            trigger: '.o_menu_sections [data-menu-xmlid="base.menu_custom"]',
            run: "click",
        },
        {
            content: "Open Domain Health",
            trigger: '.dropdown-item[data-menu-xmlid="mail_domain_health.menu_mail_domain_health_wizard"]',
            run: "click",
        },
        {
            content: "The wizard says which sending provider the checks assume, and why",
            trigger: ".o_mail_domain_health_provider:contains('Custom, as chosen in the settings.')",
        },
        {
            content: "The domains in use are listed",
            trigger: ".o_field_widget[name=line_ids] .o_data_row:contains('good.test')",
        },
        {
            content: "Add a domain",
            trigger: ".o_field_widget[name=line_ids] .o_field_x2many_list_row_add a",
            run: "click",
        },
        {
            content: "Type the domain",
            trigger: ".o_field_widget[name=line_ids] .o_selected_row .o_field_widget[name=domain] input",
            run: "edit bad.test",
        },
        {
            content: "Run the checks",
            trigger: "button[name=action_check]",
            run: "click",
        },
        {
            content: "The failing domain shows a verdict",
            trigger:
                ".o_field_widget[name=check_ids] .o_data_row:contains('bad.test'):contains('SPF'):contains('Fail')",
        },
        {
            content: "with the exact record to publish",
            trigger:
                ".o_field_widget[name=check_ids] .o_data_row:contains('bad.test'):contains('SPF') .o_field_CopyClipboardChar:contains('bad.test. IN TXT'):contains('v=spf1 include:_spf.mailer.test ip4:198.51.100.7 -all')",
        },
        {
            content: "and a button to copy it",
            trigger:
                ".o_field_widget[name=check_ids] .o_data_row:contains('bad.test'):contains('SPF') .o_field_CopyClipboardChar .o_clipboard_button",
        },
        {
            content: "The healthy domain passes",
            trigger: ".o_field_widget[name=check_ids] .o_data_row:contains('good.test'):contains('Pass')",
        },
        {
            content: "Open the failing SPF verdict",
            trigger:
                ".o_field_widget[name=check_ids] .o_data_row:contains('bad.test'):contains('SPF') td[name=summary_text]",
            run: "click",
        },
        {
            content: "The record to publish comes as Host / Type / Value too",
            trigger: ".modal .o_field_widget[name=fix_host]:contains('@')",
        },
        {
            content: "with the value to paste",
            trigger:
                ".modal .o_field_widget[name=fix_value]:contains('v=spf1 include:_spf.mailer.test ip4:198.51.100.7 -all')",
        },
        {
            content: "Close the verdict",
            trigger: ".modal .btn-close",
            run: "click",
        },
        // A new outgoing server: Check Domains Now saves it, checks its domain and shows the saved record.
        {
            content: "Open the Technical menu",
            trigger: '.o_menu_sections [data-menu-xmlid="base.menu_custom"]',
            run: "click",
        },
        {
            content: "Open base.menu_mail_servers",
            trigger: '.dropdown-item[data-menu-xmlid="base.menu_mail_servers"]',
            run: "click",
        },
        {
            content: "Create an outgoing mail server",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "Name it",
            trigger: ".o_field_widget[name=name] input",
            run: "edit Relay",
        },
        {
            content: "Its host",
            trigger: ".o_field_widget[name=smtp_host] input",
            run: "edit smtp.mailer.test",
        },
        {
            content: "It sends for good.test",
            trigger: ".o_field_widget[name=from_filter] input",
            run: "edit good.test",
        },
        {
            content: "Check its domain at once, without saving first",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_check_domain_health]",
            run: "click",
        },
        {
            content: "A notification says the check ran and what it found",
            trigger: ".o_notification:contains('Checked good.test')",
        },
        {
            content: "The saved server is shown, not a blank new one",
            trigger: ".o_breadcrumb .active:contains('Relay')",
        },
        {
            content: "with the health of its domain",
            trigger: ".o_field_widget[name=domain_health_ids] .o_data_row:contains('good.test'):contains('Pass')",
        },
        // A DKIM key with an empty selector: saved, the selector is generated.
        {
            content: "Open the Technical menu",
            trigger: '.o_menu_sections [data-menu-xmlid="base.menu_custom"]',
            run: "click",
        },
        {
            content: "Open mail_domain_health.menu_mail_dkim_key",
            trigger: '.dropdown-item[data-menu-xmlid="mail_domain_health.menu_mail_dkim_key"]',
            run: "click",
        },
        {
            content: "Create a DKIM key",
            trigger: ".o_list_button_add",
            run: "click",
        },
        {
            content: "The selector may stay empty: it is generated",
            trigger: ".o_field_widget[name=selector]:not(.o_required_modifier) input[placeholder='generated when left empty']",
        },
        {
            content: "Type the domain only",
            trigger: ".o_field_widget[name=domain] input",
            run: "edit good.test",
        },
        {
            content: "Save",
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "The key is saved with a generated selector",
            trigger: ".o_form_view .o_field_widget[name=selector] span:contains('mdh')",
        },
        {
            content: "and the status bar does not claim it signs",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Current key')",
        },
        // Messages by Source: the rows of the reports received, whatever their date.
        {
            content: "Open the Technical menu",
            trigger: '.o_menu_sections [data-menu-xmlid="base.menu_custom"]',
            run: "click",
        },
        {
            content: "Open mail_domain_health.menu_mail_dmarc_record",
            trigger: '.dropdown-item[data-menu-xmlid="mail_domain_health.menu_mail_dmarc_record"]',
            run: "click",
        },
        {
            content: "The reports received are shown, not an empty view",
            trigger: ".o_pivot_view .o_pivot table .o_pivot_cell_value:contains('155')",
        },
    ],
});

