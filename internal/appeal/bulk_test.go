package appeal

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/biaogan/biaogan/internal/db/dbtest"
)

// The bulk loader checks unit ids itself where it turns SQLite's foreign
// keys off: an unknown unit fails the batch and nothing of it is stored.
func TestBulkRefusesUnknownUnit(t *testing.T) {
	ctx := context.Background()
	d := dbtest.Open(t)
	b := NewBulk()
	if err := b.begin(ctx, d); err != nil {
		t.Fatal(err)
	}
	defer b.end()
	at := time.Date(2026, 1, 5, 1, 0, 0, 0, time.UTC)
	rows := []BulkRow{
		{Number: "20260105000001", Channel: ChannelImport, Kind: KindHelp, Category: "0201", Content: "x", Urgency: UrgencyNormal, State: StateReceived, Received: at},
		{Number: "20260105000002", Channel: ChannelImport, Kind: KindHelp, Category: "0201", Content: "y", Urgency: UrgencyNormal, State: StateDispatched, Received: at, UnitID: 999999},
	}
	err := b.inTx(ctx, func(tx *bulkTx) error {
		if err := b.insert(ctx, tx, rows); err != nil {
			return err
		}
		return b.finish(ctx, tx)
	})
	if err == nil || !strings.Contains(strings.ToUpper(err.Error()), "FOREIGN KEY") {
		t.Fatalf("want a foreign key error, got %v", err)
	}
	var n int
	if err := d.QueryRowContext(ctx, `SELECT COUNT(*) FROM appeals`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d appeals stored (%v)", n, err)
	}
	// The writer still enforces foreign keys afterwards.
	if _, err := d.ExecContext(ctx, `INSERT INTO appeals (number, channel, kind, category_code, content, state, unit_id, received_at, received_on, updated_at)
		VALUES ('X1', 'import', 'help', '0201', 'z', 'dispatched', 999999, ?, '2026-01-05', ?)`, at, at); err == nil {
		t.Fatal("foreign keys are off after the bulk load")
	}
}
