package ui

// The words of the signed-in agent's own account page.
var accountText = texts{
	"nav.account":           {"修改密码", "Password"},
	"account.title":         {"修改密码", "Change your password"},
	"account.for":           {"账号：%s", "Account: %s"},
	"account.current":       {"当前密码", "Current password"},
	"account.new":           {"新密码（至少 10 个字符）", "New password (at least 10 characters)"},
	"account.confirm":       {"再次输入新密码", "New password again"},
	"account.hint":          {"修改后，您在其他设备和浏览器上的登录都会退出，本页保持登录。", "Once it changes, you are signed out everywhere else; this browser stays signed in."},
	"account.submit":        {"修改密码", "Change password"},
	"account.changed":       {"密码已修改，其他设备上的登录已全部退出。", "Password changed. Your other sessions have been signed out."},
	"account.mismatch":      {"两次输入的新密码不一致。", "The two new passwords differ."},
	"account.wrong_current": {"当前密码不正确。", "The current password is wrong."},
	"account.conflict":      {"您的密码刚刚在别处被修改，请用新密码重新登录。", "Your password was changed meanwhile; sign in again with the new one."},
	"account.weak":          {"新密码至少需要 10 个字符，且不超过 72 字节。", "A new password needs at least 10 characters and at most 72 bytes."},
}
