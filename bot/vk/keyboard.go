package vk

import (
	"encoding/json"
	"slices"

	"github.com/SevereCloud/vksdk/v2/object"

	"kontakt/bot"
)

// clientInfo is what VK tells about the client's app with every message
// (client_info): which keyboards and button types it shows.
type clientInfo struct {
	ButtonActions  []string `json:"button_actions"`
	Keyboard       bool     `json:"keyboard"`
	InlineKeyboard bool     `json:"inline_keyboard"`
}

func fromObject(ci object.ClientInfo) clientInfo {
	return clientInfo{ButtonActions: ci.ButtonActions, Keyboard: bool(ci.Keyboard), InlineKeyboard: bool(ci.InlineKeyboard)}
}

// unknownClient is assumed when a chat's client was never seen (an
// operator writes first after the state expired): an inline keyboard of
// text buttons, which every current app shows.
var unknownClient = clientInfo{ButtonActions: []string{object.ButtonText}, Keyboard: true, InlineKeyboard: true}

// VK's keyboard limits: buttons per row, rows, buttons in all; and the
// length of a label.
const (
	maxCols         = 5
	maxInlineRows   = 6
	maxInline       = 10
	maxStandardRows = 10
	maxStandard     = 40
	maxLabel        = 40
)

// keyboard lays the dialog's buttons out as a VK keyboard for a client:
// rows wider than five are wrapped; an inline keyboard (under the message,
// like Telegram's) when the client shows them and the buttons fit 6 rows
// and 10 buttons, else the standard keyboard (one-time, at most 10 rows and
// 40 buttons; the excess is dropped, reported by dropped). Buttons are
// callback buttons when the client supports them (pressing sends
// message_event, no text in the chat), text buttons otherwise (pressing
// sends the label as a message with the payload). It returns nil when the
// client shows no keyboard at all.
func keyboard(rows [][]bot.Button, ci clientInfo) (kb *object.MessagesKeyboard, dropped int) {
	var wrapped [][]bot.Button
	total := 0
	for _, row := range rows {
		for len(row) > 0 {
			n := min(len(row), maxCols)
			wrapped = append(wrapped, row[:n])
			total += n
			row = row[n:]
		}
	}
	if total == 0 {
		return nil, 0
	}
	maxRows, maxButtons := maxInlineRows, maxInline
	switch {
	case ci.InlineKeyboard && len(wrapped) <= maxInlineRows && total <= maxInline:
		kb = object.NewMessagesKeyboardInline()
	case ci.Keyboard:
		kb = object.NewMessagesKeyboard(true)
		maxRows, maxButtons = maxStandardRows, maxStandard
	case ci.InlineKeyboard:
		kb = object.NewMessagesKeyboardInline()
	default:
		return nil, total
	}
	callback := slices.Contains(ci.ButtonActions, object.ButtonCallback)
	n := 0
	for i, row := range wrapped {
		if i == maxRows || n == maxButtons {
			break
		}
		kb.AddRow()
		for _, b := range row {
			if n == maxButtons {
				break
			}
			label := b.Text
			if r := []rune(label); len(r) > maxLabel {
				label = string(r[:maxLabel-1]) + "…"
			}
			if callback {
				kb.AddCallbackButton(label, payload{Data: b.Data}, object.Secondary)
			} else {
				kb.AddTextButton(label, payload{Data: b.Data}, object.Secondary)
			}
			n++
		}
	}
	return kb, total - n
}

// keyboardJSON is the keyboard as messages.send takes it.
func keyboardJSON(kb *object.MessagesKeyboard) string {
	b, _ := json.Marshal(kb)
	return string(b)
}
