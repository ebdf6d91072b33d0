DROP TABLE canned_responses;
DROP TABLE conversation_links;
