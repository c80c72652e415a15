package wechat

// DispositionFilename is dispositionFilename, for the fuzz test.
var DispositionFilename = dispositionFilename
