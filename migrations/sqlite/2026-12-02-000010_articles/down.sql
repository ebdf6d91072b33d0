DROP TABLE article_search;
DROP TABLE articles;
