-- Trend signals (a hashtag or a video), the products they sell, their snapshots over time,
-- their scores, and each product's sales velocity and stock alert.

-- One row per hashtag or video we follow. Imports and the RapidAPI fetch add snapshots.
CREATE TABLE trend_signals (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        TEXT        NOT NULL CHECK (kind IN ('hashtag', 'video')),
    -- The hashtag without `#`, lowercased, or the video id.
    key         TEXT        NOT NULL CHECK (length(key) BETWEEN 1 AND 256),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT trend_signals_kind_key UNIQUE (kind, key)
);

-- Which products a signal sells (the viral boost of their reorder suggestion).
CREATE TABLE trend_signal_products (
    signal_id   BIGINT NOT NULL REFERENCES trend_signals (id),
    product_id  BIGINT NOT NULL REFERENCES products (id),
    PRIMARY KEY (signal_id, product_id)
);
CREATE INDEX trend_signal_products_product ON trend_signal_products (product_id);

-- What a signal looked like at one moment. Growth is computed from successive rows, never
-- taken from input. One row per signal and moment: importing a file twice changes nothing.
CREATE TABLE trend_snapshots (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    signal_id    BIGINT      NOT NULL REFERENCES trend_signals (id),
    captured_at  TIMESTAMPTZ NOT NULL,
    views        BIGINT      NOT NULL CHECK (views >= 0),
    likes        BIGINT      NOT NULL CHECK (likes >= 0),
    comments     BIGINT      NOT NULL CHECK (comments >= 0),
    shares       BIGINT      NOT NULL CHECK (shares >= 0),
    source       TEXT        NOT NULL CHECK (source IN ('import', 'rapidapi', 'demo')),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT trend_snapshots_signal_time UNIQUE (signal_id, captured_at)
);

-- The score of a signal as of one snapshot; rescoring the same snapshot (recency decays)
-- replaces the row, so the history is one point per snapshot.
CREATE TABLE trend_scores (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    signal_id        BIGINT           NOT NULL REFERENCES trend_signals (id),
    snapshot_id      BIGINT           NOT NULL UNIQUE REFERENCES trend_snapshots (id),
    trend_score      DOUBLE PRECISION NOT NULL CHECK (trend_score BETWEEN 0 AND 100),
    urgency_score    DOUBLE PRECISION NOT NULL CHECK (urgency_score BETWEEN 0 AND 100),
    -- Views gained per hour as a fraction of the earlier snapshot's views (0.1 = 10 %/h).
    growth_rate      DOUBLE PRECISION NOT NULL,
    -- (likes + 2·comments + 3·shares) / views.
    engagement_rate  DOUBLE PRECISION NOT NULL CHECK (engagement_rate >= 0),
    reasoning        TEXT             NOT NULL,
    scorer           TEXT             NOT NULL CHECK (scorer IN ('formula', 'openai', 'anthropic')),
    scored_at        TIMESTAMPTZ      NOT NULL DEFAULT now()
);
CREATE INDEX trend_scores_signal ON trend_scores (signal_id, scored_at DESC);

-- Each product's sales velocity and stock alert as of the last scoring run. `alert` is the
-- previous level when the next run starts, so a move into `critical` is reported once.
CREATE TABLE product_velocity (
    product_id          BIGINT           PRIMARY KEY REFERENCES products (id),
    velocity_1h         DOUBLE PRECISION NOT NULL CHECK (velocity_1h >= 0),
    velocity_6h         DOUBLE PRECISION NOT NULL CHECK (velocity_6h >= 0),
    velocity_24h        DOUBLE PRECISION NOT NULL CHECK (velocity_24h >= 0),
    trend               TEXT             NOT NULL CHECK (trend IN ('increasing', 'decreasing', 'stable')),
    hours_to_stockout   DOUBLE PRECISION CHECK (hours_to_stockout >= 0),
    alert               TEXT             NOT NULL CHECK (alert IN ('critical', 'low', 'medium', 'high')),
    reorder_units       INTEGER          NOT NULL CHECK (reorder_units >= 0),
    reorder_confidence  DOUBLE PRECISION NOT NULL CHECK (reorder_confidence BETWEEN 0 AND 1),
    viral_boost         DOUBLE PRECISION NOT NULL CHECK (viral_boost >= 1),
    computed_at         TIMESTAMPTZ      NOT NULL DEFAULT now()
);
