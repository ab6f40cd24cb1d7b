package escalation

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// NormalizePhone reduces a phone number to digits, with Russian numbers
// written 8XXXXXXXXXX turned into 7XXXXXXXXXX, so that the same number
// written two ways links one client.
func NormalizePhone(p string) string {
	var b strings.Builder
	for _, r := range p {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	if len(d) == 11 && d[0] == '8' {
		d = "7" + d[1:]
	}
	return d
}

// resolveClient finds the client of an identity, or the client with the same
// verified phone or e-mail, or creates one; it stores what info adds and
// returns the client's id and group. An identity whose verified contact
// belongs to another client merges the two (the older one survives).
func (s *Service) resolveClient(ctx context.Context, tx querier, info ClientInfo, now time.Time) (int64, Group, error) {
	var id int64
	err := tx.QueryRow(ctx, `SELECT client_id FROM esc_identities WHERE channel = $1 AND external_id = $2`,
		info.Channel, info.ExternalID).Scan(&id)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, "", err
	}
	if other, err := findVerified(ctx, tx, info, id); err != nil {
		return 0, "", err
	} else if other != 0 {
		switch {
		case id == 0:
			if id, err = s.addIdentity(ctx, tx, other, info); err != nil {
				return 0, "", err
			}
		case other < id:
			if err := mergeTx(ctx, tx, other, id); err != nil {
				return 0, "", err
			}
			id = other
		default:
			if err := mergeTx(ctx, tx, id, other); err != nil {
				return 0, "", err
			}
		}
	}
	if id == 0 {
		group := info.Group
		if group == "" {
			group = Other
		}
		if err := tx.QueryRow(ctx, `INSERT INTO esc_clients (client_group, created_at) VALUES ($1, $2) RETURNING id`,
			group, now).Scan(&id); err != nil {
			return 0, "", err
		}
		winner, err := s.addIdentity(ctx, tx, id, info)
		if err != nil {
			return 0, "", err
		}
		if winner != id {
			// A concurrent first appeal from the same chat registered the
			// identity first: use its client.
			if _, err := tx.Exec(ctx, `DELETE FROM esc_clients WHERE id = $1`, id); err != nil {
				return 0, "", err
			}
			id = winner
		}
	}
	var group Group
	err = tx.QueryRow(ctx, clientUpdateStmt.sql, clientUpdateStmt.args(clientArgs(id, info))...).Scan(&id, &group)
	return id, group, err
}

// clientUpdateSQL stores what a ClientInfo adds to the client @client_id, or
// if that is null to the client of the identity (@channel, @external_id), and
// returns its id and group. It is a part of openSQL.
const clientUpdateSQL = `UPDATE esc_clients SET
		name = coalesce(nullif(@name, ''), name),
		client_group = coalesce(nullif(@group, ''), client_group),
		phone_verified = CASE WHEN @phone = '' THEN phone_verified ELSE @phone_verified OR (phone = @phone AND phone_verified) END,
		phone = coalesce(nullif(@phone, ''), phone),
		email_verified = CASE WHEN @email = '' THEN email_verified ELSE @email_verified OR (email = @email AND email_verified) END,
		email = coalesce(nullif(@email, ''), email),
		consent_at = coalesce(@consent_at, consent_at),
		consent_channel = CASE WHEN @consent_at::timestamptz IS NULL THEN consent_channel ELSE @consent_channel END,
		consent_version = CASE WHEN @consent_at::timestamptz IS NULL THEN consent_version ELSE @consent_version END
	WHERE id = coalesce(@client_id, (SELECT client_id FROM esc_identities WHERE channel = @channel AND external_id = @external_id))
	RETURNING id, client_group`

var clientUpdateStmt = compile(clientUpdateSQL)

func clientArgs(id int64, info ClientInfo) pgx.NamedArgs {
	var consentAt *time.Time
	var consentChannel, consentVersion string
	if c := info.Consent; c != nil {
		consentAt, consentChannel, consentVersion = &c.At, string(c.Channel), c.Version
	}
	return pgx.NamedArgs{"client_id": nullID(id), "name": info.Name, "group": info.Group, "phone": info.Phone,
		"phone_verified": info.PhoneVerified, "email": info.Email, "email_verified": info.EmailVerified,
		"consent_at": consentAt, "consent_channel": consentChannel, "consent_version": consentVersion,
		"channel": info.Channel, "external_id": info.ExternalID}
}

// findVerified returns a client other than self with the verified phone or
// e-mail of info, or 0.
func findVerified(ctx context.Context, tx querier, info ClientInfo, self int64) (int64, error) {
	phone, email := "", ""
	if info.PhoneVerified {
		phone = info.Phone
	}
	if info.EmailVerified {
		email = info.Email
	}
	if phone == "" && email == "" {
		return 0, nil
	}
	var id int64
	err := tx.QueryRow(ctx, `SELECT id FROM esc_clients
		WHERE merged_into IS NULL AND id <> $3
		AND ((phone_verified AND phone = $1 AND $1 <> '') OR (email_verified AND lower(email) = $2 AND $2 <> ''))
		ORDER BY id LIMIT 1`, phone, email, self).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return id, err
}

// addIdentity links the identity of info to clientID and returns the
// identity's client: clientID, or the client a concurrent transaction
// linked it to first.
func (s *Service) addIdentity(ctx context.Context, tx querier, clientID int64, info ClientInfo) (int64, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO esc_identities (channel, external_id, client_id) VALUES ($1, $2, $3)
		ON CONFLICT DO NOTHING`, info.Channel, info.ExternalID, clientID)
	if err != nil || tag.RowsAffected() == 1 {
		return clientID, err
	}
	var id int64
	err = tx.QueryRow(ctx, `SELECT client_id FROM esc_identities WHERE channel = $1 AND external_id = $2`,
		info.Channel, info.ExternalID).Scan(&id)
	return id, err
}

// ClientByIdentity returns the client who writes from externalID in channel.
func (s *Service) ClientByIdentity(ctx context.Context, channel Channel, externalID string) (*Client, error) {
	var id int64
	err := s.db.QueryRow(ctx, `SELECT client_id FROM esc_identities WHERE channel = $1 AND external_id = $2`,
		channel, externalID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("client %s:%s: %w", channel, externalID, err)
	}
	return s.Client(ctx, id)
}

// Client returns the client with id; for a client merged into another, the
// surviving one.
func (s *Service) Client(ctx context.Context, id int64) (*Client, error) {
	var (
		c        Client
		consent  Consent
		at       *time.Time
		mergedTo *int64
	)
	for range 10 {
		err := s.db.QueryRow(ctx, `SELECT id, name, client_group, phone, phone_verified, email, email_verified,
			consent_at, consent_channel, consent_version, merged_into, created_at FROM esc_clients WHERE id = $1`, id).
			Scan(&c.ID, &c.Name, &c.Group, &c.Phone, &c.PhoneVerified, &c.Email, &c.EmailVerified,
				&at, &consent.Channel, &consent.Version, &mergedTo, &c.CreatedAt)
		if errors.Is(err, pgx.ErrNoRows) {
			err = ErrNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("client %d: %w", id, err)
		}
		if mergedTo == nil {
			break
		}
		id = *mergedTo
	}
	if at != nil {
		consent.At = *at
		c.Consent = &consent
	}
	rows, err := s.db.Query(ctx, `SELECT channel, external_id FROM esc_identities WHERE client_id = $1 ORDER BY created_at, channel`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("identities of client %d: %w", c.ID, err)
	}
	if c.Identities, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Identity]); err != nil {
		return nil, fmt.Errorf("identities of client %d: %w", c.ID, err)
	}
	rows, err = s.db.Query(ctx, `SELECT child_id FROM esc_client_links WHERE parent_id = $1
		UNION SELECT parent_id FROM esc_client_links WHERE child_id = $1 ORDER BY 1`, c.ID)
	if err != nil {
		return nil, fmt.Errorf("relations of client %d: %w", c.ID, err)
	}
	if c.Related, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
		return nil, fmt.Errorf("relations of client %d: %w", c.ID, err)
	}
	return &c, nil
}

// ClientAppeals returns every appeal of a client, across channels, oldest
// first.
func (s *Service) ClientAppeals(ctx context.Context, clientID int64) ([]Appeal, error) {
	return s.queryAppeals(ctx, `SELECT `+appealCols+` FROM esc_appeals WHERE client_id = $1 ORDER BY created_at, id`, clientID)
}

// LinkParent links a parent client to a student or applicant client.
func (s *Service) LinkParent(ctx context.Context, parentID, childID int64) error {
	if parentID == childID {
		return fmt.Errorf("link client %d to itself: %w", parentID, ErrInvalid)
	}
	_, err := s.db.Exec(ctx, `INSERT INTO esc_client_links (parent_id, child_id)
		SELECT $1, $2 WHERE EXISTS (SELECT 1 FROM esc_clients WHERE id = $1) AND EXISTS (SELECT 1 FROM esc_clients WHERE id = $2)
		ON CONFLICT DO NOTHING`, parentID, childID)
	if err != nil {
		return fmt.Errorf("link parent %d to %d: %w", parentID, childID, err)
	}
	return nil
}

// Merge makes two clients one, as staff decide: every identity, appeal and
// relation of drop moves to keep, blank fields of keep are filled from drop,
// and drop remains as a pointer to keep.
func (s *Service) Merge(ctx context.Context, keep, drop int64) (*Client, error) {
	if keep == drop {
		return nil, fmt.Errorf("merge client %d into itself: %w", keep, ErrInvalid)
	}
	err := pgx.BeginFunc(ctx, s.db, func(tx pgx.Tx) error { return mergeTx(ctx, tx, keep, drop) })
	if err != nil {
		return nil, fmt.Errorf("merge client %d into %d: %w", drop, keep, err)
	}
	return s.Client(ctx, keep)
}

func mergeTx(ctx context.Context, tx querier, keep, drop int64) error {
	rows, err := tx.Query(ctx, `SELECT id, merged_into IS NOT NULL FROM esc_clients WHERE id IN ($1, $2) ORDER BY id FOR UPDATE`, keep, drop)
	if err != nil {
		return err
	}
	n := 0
	var (
		id     int64
		merged bool
	)
	if _, err := pgx.ForEachRow(rows, []any{&id, &merged}, func() error {
		if merged {
			return fmt.Errorf("%w: client %d is already merged", ErrInvalid, id)
		}
		n++
		return nil
	}); err != nil {
		return err
	}
	if n != 2 {
		return ErrNotFound
	}
	var b pgx.Batch
	b.Queue(`UPDATE esc_identities SET client_id = $1 WHERE client_id = $2`, keep, drop)
	b.Queue(`UPDATE esc_appeals SET client_id = $1 WHERE client_id = $2`, keep, drop)
	b.Queue(`INSERT INTO esc_client_links (parent_id, child_id)
		SELECT CASE WHEN parent_id = $2 THEN $1 ELSE parent_id END, CASE WHEN child_id = $2 THEN $1 ELSE child_id END
		FROM esc_client_links WHERE (parent_id = $2 AND child_id <> $1) OR (child_id = $2 AND parent_id <> $1)
		ON CONFLICT DO NOTHING`, keep, drop)
	b.Queue(`DELETE FROM esc_client_links WHERE parent_id = $1 OR child_id = $1`, drop)
	b.Queue(`UPDATE esc_clients k SET
			name = CASE WHEN k.name = '' THEN d.name ELSE k.name END,
			client_group = CASE WHEN k.client_group = 'other' THEN d.client_group ELSE k.client_group END,
			phone = CASE WHEN k.phone = '' THEN d.phone ELSE k.phone END,
			phone_verified = CASE WHEN k.phone = '' THEN d.phone_verified ELSE k.phone_verified END,
			email = CASE WHEN k.email = '' THEN d.email ELSE k.email END,
			email_verified = CASE WHEN k.email = '' THEN d.email_verified ELSE k.email_verified END,
			consent_at = coalesce(k.consent_at, d.consent_at),
			consent_channel = CASE WHEN k.consent_at IS NULL THEN d.consent_channel ELSE k.consent_channel END,
			consent_version = CASE WHEN k.consent_at IS NULL THEN d.consent_version ELSE k.consent_version END
		FROM esc_clients d WHERE k.id = $1 AND d.id = $2`, keep, drop)
	b.Queue(`UPDATE esc_clients SET merged_into = $1 WHERE id = $2`, keep, drop)
	return tx.SendBatch(ctx, &b).Close()
}
