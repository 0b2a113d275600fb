import type { errors as en } from '../en/errors.ts';

export const errors: Record<keyof typeof en, string> = {
  'error.detail': '詳細',
  'error.NoProjectOpenError': 'プロジェクトが開かれていません',
  'error.NoProjectOpenError.hint': '先に「プロジェクト」画面でプロジェクトを開くか、作成してください。',
  'error.ProjectNotFoundError': 'プロジェクトフォルダーが見つかりません',
  'error.ProjectNotFoundError.hint':
    '移動・名前変更されたか、接続されていないドライブにある可能性があります。新しい場所から開くか、一覧から削除してください。',
  'error.NotAProjectError': 'このフォルダーは Kensa のプロジェクトではありません',
  'error.NotAProjectError.hint': 'kensa.sqlite があるフォルダーを選ぶか、空のフォルダーに新しいプロジェクトを作成してください。',
  'error.ProjectExistsError': 'ここには既にプロジェクトがあります',
  'error.ProjectExistsError.hint': 'そのプロジェクトを開くか、新しいプロジェクト用に別のフォルダーを選んでください。',
  'error.ProjectLockedError': 'このプロジェクトは別の Kensa で開かれています',
  'error.ProjectLockedError.hint': '先にそちらで閉じてください。異常終了した Kensa が残したロックは自動的に引き継がれます。',
  'error.ReadOnlyFolderError': 'このフォルダーに書き込めません',
  'error.ReadOnlyFolderError.hint': '書き込めるフォルダーを選ぶか、管理者に書き込み権限を依頼してください。',
  'error.DatabaseTooNewError': '新しいバージョンの Kensa で作成されたプロジェクトです',
  'error.DatabaseTooNewError.hint': '開くには Kensa を更新してください。プロジェクトは変更されていません。',
  'error.CorruptDatabaseError': 'プロジェクトのカタログが破損しています',
  'error.CorruptDatabaseError.hint':
    'プロジェクトフォルダー内の画像とモデルはそのままです。バックアップから kensa.sqlite を復元するか、下の詳細を管理者に伝えてください。',
  'error.CorruptImageError': '画像ファイルが破損しています',
  'error.CorruptImageError.hint': 'カメラや元の場所からファイルをもう一度コピー・書き出ししてください。他の画像には影響ありません。',
  'error.UnsupportedImageError': '対応していない画像形式です',
  'error.UnsupportedImageError.hint': 'Kensa が読み込めるのは JPEG・PNG・BMP・TIFF です。いずれかの形式に変換してください。',
  'error.OutOfMemoryError': 'メモリが不足しています',
  'error.OutOfMemoryError.hint':
    '他のアプリを閉じるか、入力サイズやバッチサイズを小さくして、もう一度お試しください。データは失われていません。',
  'error.BackendUnavailableError': '計算エンジンを起動できませんでした',
  'error.BackendUnavailableError.hint':
    'ステータスバーのバックエンド表示をクリックすると、使えるバックエンドとその理由を確認できます。「npx kensa doctor」で詳しい診断を表示できます。',
  'error.ModelWeightsError': '事前学習済みの重みが見つからないか、一致しません',
  'error.ModelWeightsError.hint': '設定で、選んだバックボーンの MobileNet の重みがあるフォルダーを追加してください。',
  'error.CancelledError': 'キャンセルされました',
  'error.CancelledError.hint': 'キャンセルまでに完了した分は保存されています。',
  'error.ValidationError': '入力が正しくありません',
  'error.ValidationError.hint': '下の詳細に示された値を確認してください。',
  'error.NotFoundError': '見つかりません',
  'error.NotFoundError.hint': 'その間に削除された可能性があります。画面を再読み込みしてください。',
  'error.EngineCrashedError': '機械学習エンジンが予期せず停止しました',
  'error.EngineCrashedError.hint':
    'カタログと保存済みのモデルは無事です。エンジンは次の処理で再起動します。繰り返す場合は、入力サイズやバッチサイズを小さくしてください。',
  'error.ConflictError': '現在この操作はできません',
  'error.ConflictError.hint': '先に変更が必要な点を下の詳細に示しています。',
  'error.UnauthorizedError': 'このブラウザーのセッションは認証されていません',
  'error.UnauthorizedError.hint': 'Kensa の起動時に表示されたアドレスから開き直してください。',
  'error.FileExistsError': '同じ名前のファイルが既にあります',
  'error.FileExistsError.hint': '何も書き込んでいません。別の名前か保存先を選ぶか、既存のファイルを上書きしてよいか確認してください。',
  'error.PathNotFoundError': 'フォルダーまたはファイルが見つかりません',
  'error.PathNotFoundError.hint': 'パスに入力の誤りがないか、ドライブやネットワーク共有が接続されているか確認してください。',
  'error.SettingsFileError': '設定ファイルを読み込めなかったため、別名で退避しました',
  'error.SettingsFileError.hint':
    'Kensa は既定の設定で起動しました（正しかった値は引き継いでいます）。元のファイルは下に示す名前で同じ場所に残してあります。設定画面で設定し直してください。',
  'error.TilingUnsupportedError': 'この学習設定ではタイル分割をまだ使えません',
  'error.TilingUnsupportedError.hint':
    '領域による学習ガイドとランダム拡張は、タイル分割ではまだ使えません。これらをオフにするか、画像の形を「正方形に引き伸ばす」か「形を保つ（レターボックス）」にしてください。',
};
