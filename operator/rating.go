package operator

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"kontakt/bot"
	"kontakt/escalation"
)

const (
	pendingTTL   = 30 * time.Minute // a pending "Решено"/"Ответить" waits this long
	commentTTL   = 30 * time.Minute // a rated client may comment within this
	invitePrefix = "inv_"
)

// rate handles a client's rating button: it stores the score, closes the
// appeal (the dialog then returns to the bot) and offers a comment.
func (r *Relay) rate(ctx context.Context, m bot.Message) ([]bot.Reply, error) {
	rest := strings.TrimPrefix(m.Data, prefixRate)
	idText, scoreText, _ := strings.Cut(rest, ":")
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil {
		return nil, nil
	}
	a, err := r.cfg.Appeals.Get(ctx, id)
	if errors.Is(err, escalation.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if string(a.Channel) != string(m.Chat.Channel) || a.ExternalID != m.Chat.ID {
		return nil, nil // not this chat's appeal
	}
	if scoreText == noComment {
		_, _ = r.cfg.DB.Exec(ctx, `UPDATE op_ratings SET comment_until = NULL WHERE appeal_id = $1`, id)
		return []bot.Reply{{Text: txtNoComment}}, nil
	}
	score, err := strconv.Atoi(scoreText)
	if err != nil || score < 0 || score > 5 {
		return nil, nil
	}
	now := r.now()
	var tag int64
	if score == 0 {
		ct, err := r.cfg.DB.Exec(ctx, `UPDATE op_ratings SET rated_at = $2 WHERE appeal_id = $1 AND rated_at IS NULL`, id, now)
		if err != nil {
			return nil, err
		}
		tag = ct.RowsAffected()
	} else {
		ct, err := r.cfg.DB.Exec(ctx, `UPDATE op_ratings SET score = $2, rated_at = $3, comment_until = $4
			WHERE appeal_id = $1 AND rated_at IS NULL`, id, score, now, now.Add(commentTTL))
		if err != nil {
			return nil, err
		}
		tag = ct.RowsAffected()
	}
	if tag == 0 {
		return []bot.Reply{{Text: txtAlreadyRate}}, nil
	}
	comment := "клиент не поставил оценку"
	if score > 0 {
		comment = fmt.Sprintf("оценка клиента: %d из 5", score)
	}
	if _, err := r.cfg.Appeals.Close(ctx, id, comment, 0); err != nil && !errors.Is(err, escalation.ErrIllegalTransition) {
		return nil, err
	}
	if err := r.notice(ctx, a, "", "Клиент: "+comment+".", nil); err != nil {
		return nil, err
	}
	if score == 0 {
		return []bot.Reply{{Text: txtNoRating}}, nil
	}
	return []bot.Reply{{Text: txtRated, Buttons: [][]bot.Button{{{Text: "Без комментария", Data: prefixRate + idText + ":" + noComment}}}}}, nil
}

// comment stores a text as the comment to the chat's fresh rating; ok is
// false when no rating waits for one.
func (r *Relay) comment(ctx context.Context, m bot.Message) ([]bot.Reply, bool, error) {
	text := strings.TrimSpace(m.Text)
	if text == "" {
		return nil, false, nil
	}
	var id int64
	err := r.cfg.DB.QueryRow(ctx, `UPDATE op_ratings SET comment = $4, comment_until = NULL
		WHERE appeal_id = (SELECT appeal_id FROM op_ratings WHERE channel = $1 AND external_id = $2 AND comment_until > $3
			ORDER BY rated_at DESC LIMIT 1)
		RETURNING appeal_id`, string(m.Chat.Channel), m.Chat.ID, r.now(), clip(text, 2000)).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("store rating comment: %w", err)
	}
	if a, err := r.cfg.Appeals.Get(ctx, id); err == nil {
		if err := r.notice(ctx, a, "", "Комментарий клиента к оценке: "+text, nil); err != nil {
			r.log.Error("post rating comment", "appeal", id, "err", err)
		}
	}
	return []bot.Reply{{Text: txtCommentOK}}, true, nil
}

// Rating is a client's verdict on a resolved appeal.
type Rating struct {
	AppealID int64
	Score    int // 1–5; 0: not rated
	Comment  string
	RatedAt  *time.Time
}

// RatingOf returns the rating of an appeal (ErrNoRating if never asked).
func (r *Relay) RatingOf(ctx context.Context, appealID int64) (Rating, error) {
	rt := Rating{AppealID: appealID}
	var score *int
	err := r.cfg.DB.QueryRow(ctx, `SELECT score, comment, rated_at FROM op_ratings WHERE appeal_id = $1`, appealID).Scan(&score, &rt.Comment, &rt.RatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return rt, ErrNoRating
	}
	if score != nil {
		rt.Score = *score
	}
	return rt, err
}

// ErrNoRating: the client was never asked to rate the appeal.
var ErrNoRating = errors.New("operator: no rating")

// CreateInvite stores a one-time invite for a staff member to link their
// Telegram account and returns its code; the deep link is
// https://t.me/<bot>?start=inv_<code> (see InviteLink).
func CreateInvite(ctx context.Context, db *pgxpool.Pool, staffID int64, ttl time.Duration) (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	code := base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(code))
	if _, err := db.Exec(ctx, `INSERT INTO op_invites (code_hash, staff_id, expires_at) VALUES ($1, $2, now() + $3::interval)`,
		sum[:], staffID, fmt.Sprintf("%d seconds", int64(ttl/time.Second))); err != nil {
		return "", fmt.Errorf("invite staff %d: %w", staffID, err)
	}
	return code, nil
}

// InviteLink is the Telegram deep link of an invite code for the bot
// with this username.
func InviteLink(botUsername, code string) string {
	return "https://t.me/" + strings.TrimPrefix(botUsername, "@") + "?start=" + invitePrefix + code
}

// redeem links the Telegram account of whoever opened an invite link.
func (r *Relay) redeem(ctx context.Context, m bot.Message) ([]bot.Reply, error) {
	code := strings.TrimPrefix(m.Payload, invitePrefix)
	sum := sha256.Sum256([]byte(code))
	var staff int64
	err := r.cfg.DB.QueryRow(ctx, `UPDATE op_invites SET used_at = now()
		WHERE code_hash = $1 AND used_at IS NULL AND expires_at > now() RETURNING staff_id`, sum[:]).Scan(&staff)
	if errors.Is(err, pgx.ErrNoRows) {
		return []bot.Reply{{Text: txtBadInvite}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redeem invite: %w", err)
	}
	if _, err := r.cfg.DB.Exec(ctx, `DELETE FROM op_staff_links WHERE tg_user = $2 AND staff_id <> $1`, staff, m.From.ID); err != nil {
		return nil, fmt.Errorf("link staff %d: %w", staff, err)
	}
	if _, err := r.cfg.DB.Exec(ctx, `INSERT INTO op_staff_links (staff_id, tg_user, tg_chat) VALUES ($1, $2, $3)
		ON CONFLICT (staff_id) DO UPDATE SET tg_user = excluded.tg_user, tg_chat = excluded.tg_chat, linked_at = now()`,
		staff, m.From.ID, m.Chat.ID); err != nil {
		return nil, fmt.Errorf("link staff %d: %w", staff, err)
	}
	r.log.Info("staff linked Telegram", "staff", staff)
	return []bot.Reply{{Text: fmt.Sprintf(txtLinked, firstName(r.staffName(ctx, staff)))}}, nil
}
