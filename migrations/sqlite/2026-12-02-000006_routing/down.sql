DROP TABLE team_routing;
