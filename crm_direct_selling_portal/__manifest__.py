{
    "name": "Direct Selling CRM: Leader and Consumer Portal",
    "version": "18.0.1.0.0",
    "category": "Sales/Direct Selling",
    "summary": "Distributors run their organisation from Odoo's portal: downline, "
    "volumes, rank progress, bonus statements, customers, leads and messages",
    "author": "Direct Selling CRM for Odoo",
    "website": "https://github.com/direct-selling-crm/odoo-direct-selling",
    "license": "LGPL-3",
    "maintainers": ["direct-selling-crm"],
    "development_status": "Alpha",
    "depends": [
        "crm_direct_selling",
        "crm_direct_selling_analytics",
        "portal",
        "sale",
        "loyalty",
        "mass_mailing",
        "website_sale",
        # the autoship tests and tour charge saved tokens of the demo provider
        "payment_demo",
        "website_slides",
    ],
    "data": [
        "security/ir.model.access.csv",
        "security/ds_rules.xml",
        "data/ds_portal_data.xml",
        "views/ds_distributor_views.xml",
        "views/ds_portal_templates.xml",
        "views/ds_shop_templates.xml",
        "views/ds_placement_templates.xml",
        "views/ds_portal_message_views.xml",
        "views/ds_autoship_portal_templates.xml",
        "views/ds_shop_autoship_templates.xml",
        "views/ds_training_views.xml",
        "views/ds_training_templates.xml",
    ],
    "assets": {
        "web.assets_frontend": [
            "crm_direct_selling_portal/static/src/js/**/*",
        ],
        "web.assets_tests": [
            "crm_direct_selling_portal/static/tests/tours/**/*",
        ],
    },
    "installable": True,
}
