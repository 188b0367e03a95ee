// Login: checks the credentials with GET /api/whoami before keeping them for the session.

import { h, append } from '../dom.js';
import { field, text, form } from '../forms.js';
import { basicHeader, remember } from '../auth.js';
import { whoami } from '../resources.js';

export function render(ctx, _params, app) {
  const user = text('username', { required: true, autocomplete: 'username', value: '' });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password' });
  const login = form({
    label: 'Log in to Roost',
    submit: 'Log in',
    children: [
      h('p', { class: 'muted' }, "Use one of the broker's users (the same as for AMQP)."),
      field('Username', user),
      field('Password', password),
    ],
    onSubmit: async () => {
      const header = basicHeader(user.value, password.value);
      try {
        const me = await whoami(header);
        remember(me.name, header);
      } catch (e) {
        // "Not management user": the login is right but the user's tags give no access to
        // the management API (AMQP does not care about tags).
        if (e.refused) throw new Error(`User '${user.value}' may not use the dashboard: ${e.reason}. An administrator can give it the management tag.`);
        if (e.status === 401) throw new Error('Wrong username or password.');
        throw e;
      }
      app.loggedIn();
    },
  });
  login.classList.add('login');
  append(ctx.main, login);
  user.focus();
}
