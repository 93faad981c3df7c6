-- 094: the Open311 door (rectify-open311, GeoReport v2). Its services are
-- the categories a citizen can choose; each maps to a work-order category
-- and urgency. The door reads as rectify_report (090); it writes nothing
-- itself: every request becomes a post_order event through intake.
CREATE TABLE open311_service (
    service_code text PRIMARY KEY CHECK (service_code ~ '^[a-z0-9_.-]{1,64}$'),
    service_name text NOT NULL,
    description  text NOT NULL DEFAULT '',
    keywords     text NOT NULL DEFAULT '',
    grp          text NOT NULL DEFAULT '',    -- Open311's "group"
    category     text NOT NULL,               -- work_order.category
    urgent       boolean NOT NULL DEFAULT false
);
INSERT INTO open311_service (service_code, service_name, description, keywords, grp, category, urgent)
VALUES ('noise', '噪声扰民', '施工、娱乐、社会生活噪声', 'noise,噪声', '市容环境', 'noise', false),
       ('illegal-building', '违法搭建', '住宅小区及沿街违法建筑', 'building,违建', '城市管理',
        'illegal-building', false),
       ('garbage', '垃圾乱堆', '生活垃圾、建筑垃圾乱堆乱放', 'garbage,垃圾', '市容环境', 'garbage', false),
       ('structure-damage', '破坏房屋承重结构', '正在发生的破坏承重结构行为', 'structure,承重',
        '城市管理', 'structure-damage', true);
