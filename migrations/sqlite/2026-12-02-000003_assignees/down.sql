DROP TABLE assignees;
