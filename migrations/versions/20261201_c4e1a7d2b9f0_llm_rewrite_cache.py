"""The shared LLM rewrite cache: one row per (source sentence, limit, min words, model, prompt).

Revision ID: c4e1a7d2b9f0
Revises: 9b41c0de5a11
Create Date: 2026-12-01 17:20:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


# revision identifiers, used by Alembic.
revision = 'c4e1a7d2b9f0'
down_revision = '9b41c0de5a11'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'llm_rewrites',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('sentences', JSON, nullable=True),
        sa.Column('model', sa.String(length=128), nullable=False),
        sa.Column('prompt_version', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_llm_rewrites')),
    )


def downgrade():
    op.drop_table('llm_rewrites')
