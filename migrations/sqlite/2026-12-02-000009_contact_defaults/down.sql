DROP TABLE contact_default_staff;
DROP TABLE contact_defaults;
