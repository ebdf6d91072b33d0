DROP TABLE team_secrets;
DROP INDEX customers_by_external_id;
ALTER TABLE customers DROP COLUMN external_id;
ALTER TABLE customers DROP COLUMN phone;
